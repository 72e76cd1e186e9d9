#include "format/tensor_type.h"

namespace sm {

namespace {
// Block sizes and bytes per block from ggml's type table (QK_K = 256).
const TypeTraits kTraits[] = {
    /* 0 F32  */ {"f32", 1, 4, true},
    /* 1 F16  */ {"f16", 1, 2, true},
    /* 2 Q4_0 */ {"q4_0", 32, 18, true},
    /* 3 Q4_1 */ {"q4_1", 32, 20, false},
    /* 4      */ {nullptr, 0, 0, false},
    /* 5      */ {nullptr, 0, 0, false},
    /* 6 Q5_0 */ {"q5_0", 32, 22, false},
    /* 7 Q5_1 */ {"q5_1", 32, 24, false},
    /* 8 Q8_0 */ {"q8_0", 32, 34, true},
    /* 9 Q8_1 */ {"q8_1", 32, 36, false},
    /*10 Q2_K */ {"q2_K", 256, 84, false},
    /*11 Q3_K */ {"q3_K", 256, 110, false},
    /*12 Q4_K */ {"q4_K", 256, 144, true},
    /*13 Q5_K */ {"q5_K", 256, 176, false},
    /*14 Q6_K */ {"q6_K", 256, 210, true},
    /*15 Q8_K */ {"q8_K", 256, 292, false},
    /*16 */ {"iq2_xxs", 256, 66, false},
    /*17 */ {"iq2_xs", 256, 74, false},
    /*18 */ {"iq3_xxs", 256, 98, false},
    /*19 */ {"iq1_s", 256, 50, false},
    /*20 */ {"iq4_nl", 32, 18, false},
    /*21 */ {"iq3_s", 256, 110, false},
    /*22 */ {"iq2_s", 256, 82, false},
    /*23 */ {"iq4_xs", 256, 136, false},
    /*24 */ {"i8", 1, 1, false},
    /*25 */ {"i16", 1, 2, false},
    /*26 */ {"i32", 1, 4, false},
    /*27 */ {"i64", 1, 8, false},
    /*28 */ {"f64", 1, 8, false},
    /*29 */ {"iq1_m", 256, 56, false},
    /*30 BF16 */ {"bf16", 1, 2, true},
};
const TypeTraits kUnknown = {nullptr, 0, 0, false};
} // namespace

const TypeTraits &type_traits(uint32_t type) {
    if (type < sizeof kTraits / sizeof kTraits[0]) return kTraits[type];
    return kUnknown;
}

const char *type_name(uint32_t type) {
    const TypeTraits &t = type_traits(type);
    return t.name ? t.name : "unknown";
}

} // namespace sm
