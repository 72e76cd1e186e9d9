#include "screenshot.h"

#include "stb_headers.h"

#include <cstdio>
#include <vector>

bool save_screenshot(SDL_Renderer *r, int w, int h, const char *path) {
    std::vector<unsigned char> px(static_cast<size_t>(w) * h * 4);
    // RGBA32 = bytes R,G,B,A in memory whatever the endianness: what stb expects.
    if (SDL_RenderReadPixels(r, nullptr, SDL_PIXELFORMAT_RGBA32, px.data(), w * 4) != 0) {
        fprintf(stderr, "error: cannot read the frame back: %s\n", SDL_GetError());
        return false;
    }
    for (size_t i = 3; i < px.size(); i += 4) px[i] = 255; // the window is opaque
    if (!stbi_write_png(path, w, h, 4, px.data(), w * 4)) {
        fprintf(stderr, "error: cannot write '%s'\n", path);
        return false;
    }
    return true;
}
