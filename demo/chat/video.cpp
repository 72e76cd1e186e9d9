#include "video.h"

#include <cstdio>
#include <cstring>

bool Video::create(const char *title, int w, int h, bool want_vsync, bool allow_headless) {
    if (SDL_Init(SDL_INIT_VIDEO) == 0) {
        window = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                                  SDL_WINDOW_RESIZABLE | SDL_WINDOW_SHOWN);
        if (window) {
            const Uint32 flags = SDL_RENDERER_ACCELERATED | (want_vsync ? SDL_RENDERER_PRESENTVSYNC : 0);
            renderer = SDL_CreateRenderer(window, -1, flags);
            if (!renderer) renderer = SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE);
            if (!renderer) {
                fprintf(stderr, "error: cannot create a renderer: %s\n", SDL_GetError());
                return false;
            }
        } else if (!allow_headless) {
            fprintf(stderr, "error: cannot create a window: %s\n", SDL_GetError());
            return false;
        }
    } else if (!allow_headless) {
        fprintf(stderr, "error: cannot start SDL video (driver %s): %s\n",
                SDL_getenv("SDL_VIDEODRIVER") ? SDL_getenv("SDL_VIDEODRIVER") : "auto", SDL_GetError());
        return false;
    }
    if (!renderer) {
        // Headless: events only (the scripted input goes through SDL's queue).
        fprintf(stderr, "note: no display (%s); rendering off-screen\n", SDL_GetError());
        if (SDL_WasInit(SDL_INIT_VIDEO)) SDL_QuitSubSystem(SDL_INIT_VIDEO);
        if (SDL_Init(SDL_INIT_EVENTS) != 0) {
            fprintf(stderr, "error: cannot start SDL events: %s\n", SDL_GetError());
            return false;
        }
        offscreen = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
        renderer = offscreen ? SDL_CreateSoftwareRenderer(offscreen) : nullptr;
        if (!renderer) {
            fprintf(stderr, "error: cannot create an off-screen renderer: %s\n", SDL_GetError());
            return false;
        }
    }
    SDL_RendererInfo info;
    if (SDL_GetRendererInfo(renderer, &info) == 0) {
        const char *driver = SDL_GetCurrentVideoDriver();
        snprintf(renderer_name, sizeof renderer_name, "%s/%s", info.name, offscreen ? "no video" : driver ? driver : "?");
        vsync = (info.flags & SDL_RENDERER_PRESENTVSYNC) != 0;
        software = (info.flags & SDL_RENDERER_SOFTWARE) != 0 || offscreen;
    }
    SDL_SetRenderDrawBlendMode(renderer, SDL_BLENDMODE_BLEND);
    return true;
}

void Video::destroy() {
    if (renderer) SDL_DestroyRenderer(renderer);
    if (offscreen) SDL_FreeSurface(offscreen);
    if (window) SDL_DestroyWindow(window);
    renderer = nullptr;
    offscreen = nullptr;
    window = nullptr;
    SDL_Quit();
}

void Video::output_size(int *w, int *h) const {
    if (offscreen) {
        *w = offscreen->w;
        *h = offscreen->h;
    } else {
        SDL_GetRendererOutputSize(renderer, w, h);
    }
}
