// Medians and percentiles for benchmark samples (machines are noisy: report medians).
#pragma once
#include <algorithm>
#include <vector>

inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const double at = p / 100.0 * static_cast<double>(v.size() - 1);
    const size_t i = static_cast<size_t>(at);
    const double f = at - static_cast<double>(i);
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}
inline double median(const std::vector<double> &v) { return percentile(v, 50); }
