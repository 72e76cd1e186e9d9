// Line charts as PNG files (`smallmind train --plot`): axes with tick labels, one
// polyline per series, a legend. Text is a built-in 5x7 bitmap font (digits, lowercase
// letters, a few signs), so nothing beyond stb_image_write is needed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

struct PlotSeries {
    std::string label;
    std::vector<double> x, y; // same length; non-finite y values break the line
    uint32_t rgb = 0;         // 0xRRGGBB
    bool markers = false;     // a filled square at every point
};

// Where the data went: the plot area's pixel bounds and the axis ranges they span.
struct PlotFrame {
    int left = 0, top = 0, right = 0, bottom = 0; // pixel columns / rows of the axes' edges
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    int col(double x) const;
    int row(double y) const;
};

struct PlotImage {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb; // width * height * 3, rows top to bottom
    PlotFrame frame;
    int legend_left = 0, legend_top = 0, legend_right = 0, legend_bottom = 0; // the legend's box
};

// Axis ranges are rounded out to tick values ("nice" steps of 1, 2 or 5 x 10^k).
PlotImage render_plot(const std::vector<PlotSeries> &series, const std::string &x_label, const std::string &y_label,
                      int width = 800, int height = 480);
// Returns false with *error set when the file cannot be written.
bool write_plot_png(const PlotImage &img, const std::string &path, std::string *error);

// The tick step for a span: 1, 2 or 5 x 10^k, giving about `target` intervals.
double nice_tick_step(double span, int target);
