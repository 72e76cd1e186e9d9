#include "plot_png.h"

// The one translation unit of the command-line tool that compiles stb_image_write's body
// (Debian's libstb-dev ships headers only). Its own style trips -Wall -Wextra.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace {

// 5x7 glyphs, one string per row, '#' = ink. Uppercase letters use the lowercase ones.
// Letters with a descender (g p q y) are drawn `drop` rows lower.
struct Glyph {
    char c;
    const char *rows[7];
    int drop = 0;
};
const Glyph kFont[] = {
    {'0', {" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "}},
    {'1', {"  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
    {'2', {" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"}},
    {'3', {"#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "}},
    {'4', {"   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "}},
    {'5', {"#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "}},
    {'6', {"  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "}},
    {'7', {"#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "}},
    {'8', {" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "}},
    {'9', {" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "}},
    {'.', {"     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "}},
    {',', {"     ", "     ", "     ", "     ", " ##  ", "  #  ", " #   "}},
    {'-', {"     ", "     ", "     ", " ### ", "     ", "     ", "     "}},
    {'+', {"     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     "}},
    {'(', {"   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # "}},
    {')', {" #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   "}},
    {'/', {"     ", "    #", "   # ", "  #  ", " #   ", "#    ", "     "}},
    {':', {"     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     "}},
    {'=', {"     ", "     ", "#####", "     ", "#####", "     ", "     "}},
    {' ', {"     ", "     ", "     ", "     ", "     ", "     ", "     "}},
    {'a', {"     ", "     ", " ### ", "    #", " ####", "#   #", " ####"}},
    {'b', {"#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#### "}},
    {'c', {"     ", "     ", " ### ", "#    ", "#    ", "#   #", " ### "}},
    {'d', {"    #", "    #", " ## #", "#  ##", "#   #", "#   #", " ####"}},
    {'e', {"     ", "     ", " ### ", "#   #", "#####", "#    ", " ### "}},
    {'f', {"  ## ", " #  #", " #   ", "###  ", " #   ", " #   ", " #   "}},
    {'g', {" ####", "#   #", "#   #", "#   #", " ####", "    #", " ### "}, 2},
    {'h', {"#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#   #"}},
    {'i', {"  #  ", "     ", " ##  ", "  #  ", "  #  ", "  #  ", " ### "}},
    {'j', {"   # ", "     ", "  ## ", "   # ", "   # ", "#  # ", " ##  "}},
    {'k', {"#    ", "#    ", "#  # ", "# #  ", "##   ", "# #  ", "#  # "}},
    {'l', {" ##  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
    {'m', {"     ", "     ", "## # ", "# # #", "# # #", "#   #", "#   #"}},
    {'n', {"     ", "     ", "# ## ", "##  #", "#   #", "#   #", "#   #"}},
    {'o', {"     ", "     ", " ### ", "#   #", "#   #", "#   #", " ### "}},
    {'p', {"#### ", "#   #", "#   #", "#   #", "#### ", "#    ", "#    "}, 2},
    {'q', {" ####", "#   #", "#   #", "#   #", " ####", "    #", "    #"}, 2},
    {'r', {"     ", "     ", "# ## ", "##  #", "#    ", "#    ", "#    "}},
    {'s', {"     ", "     ", " ### ", "#    ", " ### ", "    #", "#### "}},
    {'t', {" #   ", " #   ", "###  ", " #   ", " #   ", " #  #", "  ## "}},
    {'u', {"     ", "     ", "#   #", "#   #", "#   #", "#  ##", " ## #"}},
    {'v', {"     ", "     ", "#   #", "#   #", "#   #", " # # ", "  #  "}},
    {'w', {"     ", "     ", "#   #", "#   #", "# # #", "# # #", " # # "}},
    {'x', {"     ", "     ", "#   #", " # # ", "  #  ", " # # ", "#   #"}},
    {'y', {"#   #", "#   #", "#   #", "#   #", " ####", "    #", " ### "}, 2},
    {'z', {"     ", "     ", "#####", "   # ", "  #  ", " #   ", "#####"}},
};
// An unknown character is a hollow box, visible rather than silently dropped.
const Glyph kUnknown = {'?', {"#####", "#   #", "#   #", "#   #", "#   #", "#   #", "#####"}};

constexpr int kScale = 2;            // font pixels per glyph pixel
constexpr int kAdvance = 6 * kScale; // glyph width and one column of spacing
constexpr int kTextHeight = 7 * kScale;
constexpr uint32_t kInk = 0x202020, kGrid = 0xe4e4e4, kAxis = 0x000000, kWhite = 0xffffff;

const Glyph &glyph(char c) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    for (const Glyph &g : kFont)
        if (g.c == c) return g;
    return kUnknown;
}

int text_width(const std::string &s) { return s.empty() ? 0 : static_cast<int>(s.size()) * kAdvance - kScale; }

struct Canvas {
    int w, h;
    std::vector<uint8_t> &px;
    void set(int x, int y, uint32_t rgb) {
        if (x < 0 || y < 0 || x >= w || y >= h) return;
        uint8_t *p = &px[(static_cast<size_t>(y) * w + x) * 3];
        p[0] = static_cast<uint8_t>(rgb >> 16), p[1] = static_cast<uint8_t>(rgb >> 8), p[2] = static_cast<uint8_t>(rgb);
    }
    void fill(int x0, int y0, int x1, int y1, uint32_t rgb) { // inclusive corners
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) set(x, y, rgb);
    }
    void text(int x, int y, const std::string &s, uint32_t rgb) { // (x, y): the top-left corner
        for (char c : s) {
            const Glyph &g = glyph(c);
            for (int r = 0; r < 7; r++)
                for (int k = 0; k < 5; k++)
                    if (g.rows[r][k] == '#') {
                        const int px = x + k * kScale, py = y + (r + g.drop) * kScale;
                        fill(px, py, px + kScale - 1, py + kScale - 1, rgb);
                    }
            x += kAdvance;
        }
    }
    // A 2-pixel-wide line, clipped to the rectangle [cx0, cx1] x [cy0, cy1].
    void line(int x0, int y0, int x1, int y1, uint32_t rgb, int cx0, int cy0, int cx1, int cy1) {
        const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
        int err = dx + dy;
        for (;;) {
            for (int oy = 0; oy < 2; oy++)
                for (int ox = 0; ox < 2; ox++) {
                    const int x = x0 + ox, y = y0 + oy;
                    if (x >= cx0 && x <= cx1 && y >= cy0 && y <= cy1) set(x, y, rgb);
                }
            if (x0 == x1 && y0 == y1) break;
            const int e2 = 2 * err;
            if (e2 >= dy) err += dy, x0 += sx;
            if (e2 <= dx) err += dx, y0 += sy;
        }
    }
};

// Ticks from lo to hi (both multiples of step).
std::vector<double> ticks(double lo, double hi, double step) {
    std::vector<double> t;
    const long n = std::lround((hi - lo) / step);
    for (long i = 0; i <= n; i++) t.push_back(lo + static_cast<double>(i) * step);
    return t;
}

std::string tick_label(double v, double step) {
    const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    if (std::fabs(v) < step * 1e-6) v = 0; // no "-0.0"
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// [lo, hi] widened to multiples of a nice step; a zero span is widened by one step.
void nice_range(double lo, double hi, double *out_lo, double *out_hi, double *out_step) {
    if (!(hi > lo)) {
        const double pad = std::fabs(lo) > 0 ? std::fabs(lo) * 0.1 : 1.0;
        lo -= pad, hi += pad;
    }
    const double step = nice_tick_step(hi - lo, 6);
    *out_lo = std::floor(lo / step + 1e-9) * step;
    *out_hi = std::ceil(hi / step - 1e-9) * step;
    *out_step = step;
}

} // namespace

double nice_tick_step(double span, int target) {
    const double raw = span / std::max(target, 1);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / mag;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
}

int PlotFrame::col(double x) const { return left + static_cast<int>(std::lround((x - x0) / (x1 - x0) * (right - left))); }
int PlotFrame::row(double y) const { return bottom - static_cast<int>(std::lround((y - y0) / (y1 - y0) * (bottom - top))); }

PlotImage render_plot(const std::vector<PlotSeries> &series, const std::string &x_label, const std::string &y_label, int width,
                      int height) {
    PlotImage img;
    img.width = width, img.height = height;
    img.rgb.assign(static_cast<size_t>(width) * height * 3, 0xff);
    Canvas cv{width, height, img.rgb};

    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (const PlotSeries &s : series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
            xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
            ymin = std::min(ymin, s.y[i]), ymax = std::max(ymax, s.y[i]);
        }
    if (!(xmin <= xmax)) xmin = 0, xmax = 1, ymin = 0, ymax = 1; // no data: an empty frame
    PlotFrame &f = img.frame;
    double xstep, ystep;
    nice_range(std::min(xmin, 0.0), xmax, &f.x0, &f.x1, &xstep); // steps start at 0
    nice_range(ymin, ymax, &f.y0, &f.y1, &ystep);
    const std::vector<double> xt = ticks(f.x0, f.x1, xstep), yt = ticks(f.y0, f.y1, ystep);

    // Margins from the widest labels: y tick labels on the left, the y label above the
    // axis, x tick labels and the x label below it.
    int ylab_w = 0;
    for (double v : yt) ylab_w = std::max(ylab_w, text_width(tick_label(v, ystep)));
    f.left = 10 + ylab_w + 10;
    f.top = 10 + kTextHeight + 12;
    f.right = width - 10 - text_width(tick_label(f.x1, xstep)) / 2;
    f.bottom = height - 10 - kTextHeight - 10 - kTextHeight - 10;

    for (double v : xt) {
        const int c = f.col(v);
        cv.fill(c, f.top, c, f.bottom, kGrid);
        cv.fill(c, f.bottom, c, f.bottom + 5, kAxis);
        const std::string s = tick_label(v, xstep);
        cv.text(c - text_width(s) / 2, f.bottom + 10, s, kInk);
    }
    for (double v : yt) {
        const int r = f.row(v);
        cv.fill(f.left, r, f.right, r, kGrid);
        cv.fill(f.left - 5, r, f.left, r, kAxis);
        const std::string s = tick_label(v, ystep);
        cv.text(f.left - 9 - text_width(s), r - kTextHeight / 2, s, kInk);
    }
    cv.fill(f.left, f.top, f.right, f.top, kAxis);
    cv.fill(f.left, f.bottom, f.right, f.bottom, kAxis);
    cv.fill(f.left, f.top, f.left, f.bottom, kAxis);
    cv.fill(f.right, f.top, f.right, f.bottom, kAxis);
    cv.text((f.left + f.right - text_width(x_label)) / 2, height - 10 - kTextHeight, x_label, kInk);
    cv.text(f.left - 5, 10, y_label, kInk);

    // Lines inside the frame, its edges kept.
    for (const PlotSeries &s : series) {
        bool have = false;
        int pc = 0, pr = 0;
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
                have = false;
                continue;
            }
            const int c = f.col(s.x[i]), r = f.row(s.y[i]);
            if (have) cv.line(pc, pr, c, r, s.rgb, f.left + 1, f.top + 1, f.right - 1, f.bottom - 1);
            if (s.markers)
                cv.fill(std::max(c - 3, f.left + 1), std::max(r - 3, f.top + 1), std::min(c + 3, f.right - 1),
                        std::min(r + 3, f.bottom - 1), s.rgb);
            have = true, pc = c, pr = r;
        }
    }

    // The legend in the top-right corner, where falling loss curves leave room.
    int label_w = 0;
    for (const PlotSeries &s : series) label_w = std::max(label_w, text_width(s.label));
    const int swatch = 28, row_h = kTextHeight + 8;
    img.legend_right = f.right - 10;
    img.legend_left = img.legend_right - (8 + swatch + 8 + label_w + 8);
    img.legend_top = f.top + 10;
    img.legend_bottom = img.legend_top + 6 + row_h * static_cast<int>(series.size()) + 2; // descenders inside
    if (!series.empty()) {
        cv.fill(img.legend_left, img.legend_top, img.legend_right, img.legend_bottom, kWhite);
        cv.fill(img.legend_left, img.legend_top, img.legend_right, img.legend_top, kAxis);
        cv.fill(img.legend_left, img.legend_bottom, img.legend_right, img.legend_bottom, kAxis);
        cv.fill(img.legend_left, img.legend_top, img.legend_left, img.legend_bottom, kAxis);
        cv.fill(img.legend_right, img.legend_top, img.legend_right, img.legend_bottom, kAxis);
        for (size_t i = 0; i < series.size(); i++) {
            const int y = img.legend_top + 6 + row_h * static_cast<int>(i), mid = y + kTextHeight / 2;
            const int x = img.legend_left + 8;
            cv.fill(x, mid - 1, x + swatch - 1, mid, series[i].rgb);
            if (series[i].markers) cv.fill(x + swatch / 2 - 3, mid - 3, x + swatch / 2 + 3, mid + 3, series[i].rgb);
            cv.text(x + swatch + 8, y, series[i].label, kInk);
        }
    }
    return img;
}

bool write_plot_png(const PlotImage &img, const std::string &path, std::string *error) {
    if (!stbi_write_png(path.c_str(), img.width, img.height, 3, img.rgb.data(), img.width * 3)) {
        *error = "cannot write " + path;
        return false;
    }
    return true;
}
