// demo/common/plot_png: the PNG `smallmind train --plot` writes, decoded again.
#include <catch2/catch.hpp>

#include "demo/common/plot_png.h"
#include "test_support.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#include <cmath>
#include <memory>

namespace {

struct Decoded {
    int w = 0, h = 0;
    std::unique_ptr<uint8_t, void (*)(void *)> px{nullptr, stbi_image_free};
    uint32_t at(int x, int y) const {
        const uint8_t *p = px.get() + (static_cast<size_t>(y) * w + x) * 3;
        return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2];
    }
    // Whether `rgb` is within `r` pixels of (x, y).
    bool near(int x, int y, uint32_t rgb, int r) const {
        for (int dy = -r; dy <= r; dy++)
            for (int dx = -r; dx <= r; dx++) {
                const int u = x + dx, v = y + dy;
                if (u >= 0 && v >= 0 && u < w && v < h && at(u, v) == rgb) return true;
            }
        return false;
    }
};

Decoded decode(const std::string &path) {
    Decoded d;
    int n = 0;
    d.px.reset(stbi_load(path.c_str(), &d.w, &d.h, &n, 3));
    return d;
}

constexpr uint32_t kBlue = 0x1f77b4, kOrange = 0xff7f0e;

// Training loss at every step from 4 down to 1; held-out every 10 steps, 0.2 above it.
std::vector<PlotSeries> losses() {
    PlotSeries train, held;
    train.label = "training loss", train.rgb = kBlue;
    held.label = "held-out loss", held.rgb = kOrange, held.markers = true;
    for (int s = 1; s <= 100; s++) {
        train.x.push_back(s), train.y.push_back(4.0 - 3.0 * s / 100);
        if (s % 10 == 0) held.x.push_back(s), held.y.push_back(4.2 - 3.0 * s / 100);
    }
    return {train, held};
}

} // namespace

TEST_CASE("plot: tick steps are 1, 2 or 5 times a power of ten", "[plot]") {
    CHECK(nice_tick_step(100, 6) == 20);
    CHECK(nice_tick_step(2.97, 6) == Approx(0.5));
    CHECK(nice_tick_step(3.2, 6) == 1);
    CHECK(nice_tick_step(1000, 6) == 200);
    CHECK(nice_tick_step(6, 6) == 1);
    CHECK(nice_tick_step(0.07, 6) == Approx(0.02));
}

TEST_CASE("plot: the PNG decodes to its size with each value's pixel in its series' colour", "[plot]") {
    const auto series = losses();
    const PlotImage img = render_plot(series, "step", "loss", 640, 400);
    const std::string path = smtest::temp_path("plot.png");
    std::string error;
    REQUIRE(write_plot_png(img, path, &error));
    const Decoded d = decode(path);
    REQUIRE(d.px);
    CHECK(d.w == 640);
    CHECK(d.h == 400);

    // The axes span the data (x 1..100, y 1.0..3.97) rounded out to ticks: x from 0 to 100
    // by 20, y 1.0..4.0 by 0.5.
    const PlotFrame &f = img.frame;
    CHECK(f.x0 == 0);
    CHECK(f.x1 == 100);
    CHECK(f.y0 == Approx(1.0));
    CHECK(f.y1 == Approx(4.0));
    REQUIRE(f.left > 20); // room for the tick labels
    REQUIRE(f.bottom < 400 - 30);
    REQUIRE(f.right > f.left + 400);
    REQUIRE(f.bottom > f.top + 200);
    // The frame is drawn in black where the layout says.
    CHECK(d.at(f.left, (f.top + f.bottom) / 2) == 0);
    CHECK(d.at((f.left + f.right) / 2, f.bottom) == 0);

    // Each value lands where the axis ranges put it (computed here, not by the plotter).
    auto col = [&](double x) { return f.left + int(std::lround(x / 100.0 * (f.right - f.left))); };
    auto row = [&](double y) { return f.bottom - int(std::lround((y - 1.0) / 3.0 * (f.bottom - f.top))); };
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < series[k].x.size(); i++) {
            const int c = col(series[k].x[i]), r = row(series[k].y[i]);
            INFO(series[k].label << " point " << i << " at (" << c << ", " << r << ")");
            if (c >= img.legend_left && r <= img.legend_bottom) continue; // under the legend
            CHECK(d.near(c, r, series[k].rgb, 1));
        }
    // The held-out markers are squares centred on their points.
    CHECK(d.at(col(50), row(2.7)) == kOrange);
    CHECK(d.at(col(50) + 3, row(2.7) - 3) == kOrange);
    // Away from both lines (between grid lines) the plot is background.
    CHECK(d.at(col(70), row(2.8)) == 0xffffff);
    CHECK(d.at(col(30), row(1.4)) == 0xffffff);
    CHECK(!d.near(col(30), row(1.4), kBlue, 10));
    // Tick labels below the x axis and left of the y axis have ink.
    auto ink_in = [&](int x0, int y0, int x1, int y1) {
        int n = 0;
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) n += d.at(x, y) == 0x202020;
        return n;
    };
    CHECK(ink_in(col(100) - 20, f.bottom + 6, std::min(col(100) + 20, d.w - 1), f.bottom + 30) > 10); // "100"
    CHECK(ink_in(0, row(3.5) - 8, f.left - 6, row(3.5) + 8) > 10);                                    // "3.5"
    // The legend shows both colours.
    CHECK(ink_in(img.legend_left, img.legend_top, img.legend_right, img.legend_bottom) > 50);
    int blue = 0, orange = 0;
    for (int y = img.legend_top; y <= img.legend_bottom; y++)
        for (int x = img.legend_left; x <= img.legend_right; x++) blue += d.at(x, y) == kBlue, orange += d.at(x, y) == kOrange;
    CHECK(blue > 20);
    CHECK(orange > 20);
}

TEST_CASE("plot: a non-finite value breaks the line; an unwritable path is an error", "[plot]") {
    PlotSeries s;
    s.rgb = kBlue, s.label = "loss";
    for (int i = 0; i <= 40; i++) s.x.push_back(i), s.y.push_back(i == 20 ? NAN : 2.0);
    const PlotImage img = render_plot({s}, "step", "loss", 400, 300);
    const PlotFrame &f = img.frame;
    // The range ignores the NaN; the flat line is drawn on both sides of the gap only.
    REQUIRE(std::isfinite(f.y0));
    auto at = [&](int x, int y) {
        const uint8_t *p = &img.rgb[(static_cast<size_t>(y) * img.width + x) * 3];
        return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2];
    };
    const int r = f.row(2.0);
    CHECK(at(f.col(10), r) == kBlue);
    CHECK(at(f.col(30), r) == kBlue);
    CHECK(at(f.col(20), r) != kBlue);
    std::string error;
    CHECK(!write_plot_png(img, "/nonexistent-dir/plot.png", &error));
    CHECK(error.find("/nonexistent-dir/plot.png") != std::string::npos);
}
