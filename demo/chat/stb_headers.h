// The stb headers the demo uses, included as a system header so their own style
// (old-style casts, unused statics) does not trip the project's -Wall -Wextra.
#pragma once
#pragma GCC system_header
#include <math.h>
#include <stb_easy_font.h>
#include <stb_image_write.h>
#include <stb_truetype.h>
