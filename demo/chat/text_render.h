// Text and flat rectangles for the demo, batched into one vertex buffer and drawn with
// SDL_RenderGeometry: a frame of chat text plus the HUD is a handful of draw calls, and
// the buffers are sized once, so drawing never allocates.
//
// Glyphs come from a TrueType font read at run time from /usr/share/fonts (DejaVu; Debian:
// fonts-dejavu-core), baked with stb_truetype into one atlas at 1x and drawn at whole
// pixels, so the GPU and SDL's software renderer show the same crisp text. Without a font
// file it falls back to stb_easy_font (ASCII quads, no texture); nothing is bundled.
// Rectangles share the batch (a white texel in the atlas), so what is submitted first is
// drawn first and no flush is needed between a panel and its text.
#pragma once
#include <SDL.h>

#include <cstddef>
#include <cstdint>
#include <vector>

enum class Font { Body = 0, Mono = 1 };

class TextRenderer {
public:
    TextRenderer() = default;
    TextRenderer(const TextRenderer &) = delete;
    TextRenderer &operator=(const TextRenderer &) = delete;
    ~TextRenderer();

    // Returns false only if SDL cannot make the atlas texture (with the message printed).
    bool init(SDL_Renderer *r, float body_px, float mono_px);
    bool using_ttf() const { return atlas_ != nullptr; }
    const char *font_name(Font f) const { return fonts_[static_cast<int>(f)].name; }

    float advance(Font f, uint32_t codepoint) const;
    float measure(Font f, const char *s, size_t n) const;
    float line_height(Font f) const { return fonts_[static_cast<int>(f)].line_h; }

    // Queues s[0, n) with its top-left corner at (x, y); returns the pen x after it.
    float draw(Font f, float x, float y, const char *s, size_t n, SDL_Color c);
    float draw(Font f, float x, float y, const char *s, SDL_Color c);
    void fill_rect(float x, float y, float w, float h, SDL_Color c);
    // Clips what follows (NULL: no clip). Flushes, since SDL's clip is renderer state.
    void set_clip(const SDL_Rect *r);
    void flush();

private:
    struct Glyph {
        float x0, y0, x1, y1, u0, v0, u1, v1, advance;
    };
    struct Range {
        uint32_t first, count, base;
    }; // base: index of the first glyph
    struct FontData {
        float line_h = 0, ascent = 0;
        float scale = 1; // stb_easy_font pixel size
        Range ranges[6]{};
        int n_ranges = 0;
        std::vector<Glyph> glyphs;
        const char *name = "stb_easy_font";
    };
    const Glyph *glyph(const FontData &fd, uint32_t cp) const;
    bool bake(const std::vector<unsigned char> &ttf, FontData &fd, float px, void *pack_context);
    void quad(float x0, float y0, float x1, float y1, float u0, float v0, float u1, float v1, SDL_Color c);
    float draw_easy(const FontData &fd, float x, float y, const char *s, size_t n, SDL_Color c);

    SDL_Renderer *r_ = nullptr;
    SDL_Texture *atlas_ = nullptr;
    FontData fonts_[2];
    float white_u_ = 0, white_v_ = 0; // the white texel rectangles use
    std::vector<SDL_Vertex> verts_;
    std::vector<int> indices_; // fixed quad pattern, built once
    size_t n_verts_ = 0;
    std::vector<char> easy_vbuf_; // stb_easy_font output for one character
};
