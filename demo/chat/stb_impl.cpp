// The one translation unit that compiles stb_truetype's and stb_image_write's bodies
// (Debian's libstb-dev ships headers; linking libstb would be one more dependency).
#define STB_TRUETYPE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "stb_headers.h"
