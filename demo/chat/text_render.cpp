#include "text_render.h"

#include "utf8.h"

#include <cmath>
#include <cstdio>
#include <cstring>

// stb's implementations live in stb_impl.cpp; here only their declarations, except
// stb_easy_font, which is all static functions and so must be compiled where it is used.
#include "stb_headers.h"

namespace {

constexpr int kAtlasW = 1024, kAtlasH = 512;
constexpr size_t kMaxQuads = 8192; // per flush; a full frame is ~3000 glyphs

// Characters the atlas holds: ASCII, Latin-1, typographic punctuation (quotes, dashes,
// ellipsis: small models write them), arrows for the HUD, and U+FFFD for everything else.
struct CodeRange {
    uint32_t first, count;
};
constexpr CodeRange kRanges[] = {{32, 95}, {160, 96}, {0x2010, 24}, {0x2190, 4}, {0xFFFD, 1}};

const char *const kBodyFonts[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
};
const char *const kMonoFonts[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeMono.ttf",
};

// Reads the first font file that exists; returns its path or NULL.
const char *read_first(const char *const *paths, size_t n, std::vector<unsigned char> *out) {
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "rb");
        if (!f) continue;
        out->clear();
        unsigned char buf[65536];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) out->insert(out->end(), buf, buf + got);
        const bool ok = !ferror(f) && !out->empty();
        fclose(f);
        if (ok) return paths[i];
    }
    return nullptr;
}

// stb_easy_font is ASCII only: the punctuation small models and our UI use gets an ASCII
// look-alike, anything else '?'.
char ascii_fallback(uint32_t cp) {
    if (cp >= 32 && cp < 127) return static_cast<char>(cp);
    if (cp < 32) return ' ';
    switch (cp) {
    case 0x00A0: return ' ';
    case 0x00B7:
    case 0x2022: return '-'; // middle dot, bullet
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2015: return '-';
    case 0x2018:
    case 0x2019:
    case 0x201A:
    case 0x201B: return '\'';
    case 0x201C:
    case 0x201D:
    case 0x201E:
    case 0x201F: return '"';
    case 0x2026: return '.'; // ellipsis
    default: return '?';
    }
}

const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

} // namespace

TextRenderer::~TextRenderer() {
    if (atlas_) SDL_DestroyTexture(atlas_);
}

bool TextRenderer::init(SDL_Renderer *r, float body_px, float mono_px) {
    r_ = r;
    verts_.resize(kMaxQuads * 4);
    indices_.resize(kMaxQuads * 6);
    for (size_t q = 0; q < kMaxQuads; q++) {
        const int v = static_cast<int>(q * 4);
        int *ix = &indices_[q * 6];
        ix[0] = v, ix[1] = v + 1, ix[2] = v + 2, ix[3] = v, ix[4] = v + 2, ix[5] = v + 3;
    }
    easy_vbuf_.resize(8192);

    std::vector<unsigned char> body, mono;
    const char *body_path = read_first(kBodyFonts, sizeof kBodyFonts / sizeof *kBodyFonts, &body);
    const char *mono_path = read_first(kMonoFonts, sizeof kMonoFonts / sizeof *kMonoFonts, &mono);
    // One family is enough: use it for both roles.
    if (!body_path && mono_path) body = mono, body_path = mono_path;
    if (!mono_path && body_path) mono = body, mono_path = body_path;

    bool baked = false;
    if (body_path) {
        // The bottom rows hold a white block for rectangles; glyphs pack above it.
        std::vector<unsigned char> alpha(static_cast<size_t>(kAtlasW) * kAtlasH, 0);
        stbtt_pack_context pc;
        if (stbtt_PackBegin(&pc, alpha.data(), kAtlasW, kAtlasH - 4, kAtlasW, 1, nullptr)) {
            stbtt_PackSetOversampling(&pc, 1, 1); // 1:1 texels, whole-pixel pens: crisp everywhere
            baked = bake(body, fonts_[0], body_px, &pc) && bake(mono, fonts_[1], mono_px, &pc);
            stbtt_PackEnd(&pc);
        }
        if (baked) {
            for (int y = kAtlasH - 3; y < kAtlasH; y++) memset(&alpha[static_cast<size_t>(y) * kAtlasW], 255, 3);
            white_u_ = 1.5f / kAtlasW;
            white_v_ = (kAtlasH - 1.5f) / kAtlasH;
            std::vector<uint32_t> rgba(alpha.size());
            for (size_t i = 0; i < alpha.size(); i++) {
                // RGBA32 is R,G,B,A in memory: white, coverage in alpha.
                const unsigned char px[4] = {255, 255, 255, alpha[i]};
                memcpy(&rgba[i], px, 4);
            }
            atlas_ = SDL_CreateTexture(r, SDL_PIXELFORMAT_RGBA32, SDL_TEXTUREACCESS_STATIC, kAtlasW, kAtlasH);
            if (!atlas_) {
                fprintf(stderr, "error: cannot create the font atlas texture: %s\n", SDL_GetError());
                return false;
            }
            SDL_UpdateTexture(atlas_, nullptr, rgba.data(), kAtlasW * 4);
            SDL_SetTextureBlendMode(atlas_, SDL_BLENDMODE_BLEND);
            SDL_SetTextureScaleMode(atlas_, SDL_ScaleModeNearest);
            fonts_[0].name = base_name(body_path);
            fonts_[1].name = base_name(mono_path);
        } else {
            fprintf(stderr, "warning: cannot bake %s; using stb_easy_font\n", body_path);
        }
    }
    if (!baked) {
        // stb_easy_font: 12-pixel lines at scale 1; about the TrueType sizes' widths.
        fonts_[0] = FontData{};
        fonts_[1] = FontData{};
        fonts_[0].scale = body_px / 9.0f;
        fonts_[1].scale = mono_px / 10.0f;
        for (FontData &fd : fonts_) {
            fd.line_h = std::ceil(11.0f * fd.scale);
            fd.ascent = 0;
        }
        stb_easy_font_spacing(0);
    }
    return true;
}

bool TextRenderer::bake(const std::vector<unsigned char> &ttf, FontData &fd, float px, void *pack_context) {
    stbtt_pack_context *pc = static_cast<stbtt_pack_context *>(pack_context);
    stbtt_fontinfo info;
    if (!stbtt_InitFont(&info, ttf.data(), stbtt_GetFontOffsetForIndex(ttf.data(), 0))) return false;
    size_t total = 0;
    for (const CodeRange &cr : kRanges) total += cr.count;
    std::vector<stbtt_packedchar> packed(total);
    stbtt_pack_range pr[sizeof kRanges / sizeof *kRanges];
    size_t base = 0;
    fd.n_ranges = 0;
    for (const CodeRange &cr : kRanges) {
        stbtt_pack_range &p = pr[fd.n_ranges];
        memset(&p, 0, sizeof p);
        p.font_size = px;
        p.first_unicode_codepoint_in_range = static_cast<int>(cr.first);
        p.num_chars = static_cast<int>(cr.count);
        p.chardata_for_range = &packed[base];
        fd.ranges[fd.n_ranges++] = {cr.first, cr.count, static_cast<uint32_t>(base)};
        base += cr.count;
    }
    // Glyphs missing from the font bake as empty boxes; that is fine.
    if (!stbtt_PackFontRanges(pc, ttf.data(), 0, pr, fd.n_ranges)) return false;

    const float scale = stbtt_ScaleForPixelHeight(&info, px);
    int asc, desc, gap;
    stbtt_GetFontVMetrics(&info, &asc, &desc, &gap);
    fd.ascent = std::round(static_cast<float>(asc) * scale);
    fd.line_h = std::ceil(static_cast<float>(asc - desc + gap) * scale);
    fd.glyphs.resize(total);
    for (size_t i = 0; i < total; i++) {
        float x = 0, y = 0;
        stbtt_aligned_quad q;
        stbtt_GetPackedQuad(packed.data(), kAtlasW, kAtlasH, static_cast<int>(i), &x, &y, &q, 1);
        fd.glyphs[i] = {q.x0, q.y0, q.x1, q.y1, q.s0, q.t0, q.s1, q.t1, packed[i].xadvance};
    }
    return true;
}

const TextRenderer::Glyph *TextRenderer::glyph(const FontData &fd, uint32_t cp) const {
    if (cp < 32) cp = ' '; // tabs, stray carriage returns: blank, not a box
    for (int i = 0; i < fd.n_ranges; i++) {
        const Range &r = fd.ranges[i];
        if (cp >= r.first && cp - r.first < r.count) return &fd.glyphs[r.base + (cp - r.first)];
    }
    const Range &last = fd.ranges[fd.n_ranges - 1]; // U+FFFD
    return &fd.glyphs[last.base];
}

float TextRenderer::advance(Font f, uint32_t cp) const {
    const FontData &fd = fonts_[static_cast<int>(f)];
    if (atlas_) return glyph(fd, cp)->advance;
    const int c = ascii_fallback(cp);
    return static_cast<float>(stb_easy_font_charinfo[c - 32].advance & 15) * fd.scale;
}

float TextRenderer::measure(Font f, const char *s, size_t n) const {
    float w = 0;
    for (size_t i = 0, len = 0; i < n; i += len) w += advance(f, utf8::decode(s, n, i, &len));
    return w;
}

void TextRenderer::quad(float x0, float y0, float x1, float y1, float u0, float v0, float u1, float v1, SDL_Color c) {
    if (n_verts_ + 4 > verts_.size()) flush();
    SDL_Vertex *v = &verts_[n_verts_];
    v[0] = {{x0, y0}, c, {u0, v0}};
    v[1] = {{x1, y0}, c, {u1, v0}};
    v[2] = {{x1, y1}, c, {u1, v1}};
    v[3] = {{x0, y1}, c, {u0, v1}};
    n_verts_ += 4;
}

void TextRenderer::fill_rect(float x, float y, float w, float h, SDL_Color c) {
    quad(x, y, x + w, y + h, white_u_, white_v_, white_u_, white_v_, c);
}

float TextRenderer::draw(Font f, float x, float y, const char *s, SDL_Color c) { return draw(f, x, y, s, strlen(s), c); }

float TextRenderer::draw(Font f, float x, float y, const char *s, size_t n, SDL_Color c) {
    const FontData &fd = fonts_[static_cast<int>(f)];
    if (!atlas_) return draw_easy(fd, x, y, s, n, c);
    const float base = std::round(y + fd.ascent);
    for (size_t i = 0, len = 0; i < n; i += len) {
        const uint32_t cp = utf8::decode(s, n, i, &len);
        const Glyph *g = glyph(fd, cp);
        if (g->x1 > g->x0) {
            const float px = std::round(x); // whole pixels: 1:1 texels, no filtering
            quad(px + g->x0, base + g->y0, px + g->x1, base + g->y1, g->u0, g->v0, g->u1, g->v1, c);
        }
        x += g->advance;
    }
    return x;
}

float TextRenderer::draw_easy(const FontData &fd, float x, float y, const char *s, size_t n, SDL_Color c) {
    for (size_t i = 0, len = 0; i < n; i += len) {
        const uint32_t cp = utf8::decode(s, n, i, &len);
        char ch[2] = {ascii_fallback(cp), 0};
        const int nq = stb_easy_font_print(0, 0, ch, nullptr, easy_vbuf_.data(), static_cast<int>(easy_vbuf_.size()));
        for (int q = 0; q < nq; q++) {
            // Each quad is an axis-aligned rectangle: vertices 0 and 2 are its corners.
            float a[3], b[3];
            memcpy(a, &easy_vbuf_[static_cast<size_t>(q) * 64], sizeof a);
            memcpy(b, &easy_vbuf_[static_cast<size_t>(q) * 64 + 32], sizeof b);
            quad(x + a[0] * fd.scale, y + a[1] * fd.scale, x + b[0] * fd.scale, y + b[1] * fd.scale, 0, 0, 0, 0, c);
        }
        x += static_cast<float>(stb_easy_font_charinfo[ch[0] - 32].advance & 15) * fd.scale;
    }
    return x;
}

void TextRenderer::set_clip(const SDL_Rect *r) {
    flush();
    SDL_RenderSetClipRect(r_, r);
}

void TextRenderer::flush() {
    if (n_verts_ == 0) return;
    SDL_RenderGeometry(r_, atlas_, verts_.data(), static_cast<int>(n_verts_), indices_.data(),
                       static_cast<int>(n_verts_ / 4 * 6));
    n_verts_ = 0;
}
