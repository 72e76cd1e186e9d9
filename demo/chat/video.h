// The window and renderer, with the fallbacks that let the demo run anywhere:
//   1. a window with an accelerated renderer (vsync when asked for);
//   2. the same window with SDL's software renderer (Xvfb without GL, SDL_VIDEODRIVER=dummy);
//   3. headless (screenshot runs only): no video subsystem at all, a software renderer
//      drawing into a plain surface, so a test needs no display server.
#pragma once
#include <SDL.h>

struct Video {
    SDL_Window *window = nullptr;
    SDL_Renderer *renderer = nullptr;
    SDL_Surface *offscreen = nullptr; // case 3
    char renderer_name[32] = "";
    bool vsync = false;    // the renderer says it waits for vertical blank
    bool software = false; // SDL's software renderer (its vsync flag paces nothing)

    // Prints why and returns false on failure. allow_headless: case 3 is acceptable.
    bool create(const char *title, int w, int h, bool want_vsync, bool allow_headless);
    void destroy();
    void output_size(int *w, int *h) const;
    ~Video() { destroy(); }
};
