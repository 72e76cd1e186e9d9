// Reads the renderer's current target back and writes it as PNG (stb_image_write).
// Call after drawing and before SDL_RenderPresent (the back buffer is what is read).
#pragma once
#include <SDL.h>

// Prints the reason to stderr and returns false on failure.
bool save_screenshot(SDL_Renderer *r, int w, int h, const char *path);
