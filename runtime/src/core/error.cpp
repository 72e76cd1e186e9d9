#include "core/error.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace sm {

sm_status Error::set(sm_status c, const char *fmt, ...) {
    if (code != SM_OK) return code;
    code = c;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return code;
}

sm_status Error::wrap(const char *fmt, ...) {
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof message];
    memcpy(old, message, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof message - 3) n = sizeof message - 3;
    memcpy(message, prefix, n);
    message[n] = ':';
    message[n + 1] = ' ';
    size_t rest = sizeof message - n - 3;
    size_t m = strnlen(old, rest);
    memcpy(message + n + 2, old, m);
    message[n + 2 + m] = 0;
    return code;
}

} // namespace sm

extern "C" const char *sm_status_string(sm_status s) {
    switch (s) {
    case SM_OK: return "ok";
    case SM_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SM_ERR_IO: return "i/o error";
    case SM_ERR_FORMAT: return "corrupt or truncated file";
    case SM_ERR_UNSUPPORTED: return "unsupported";
    case SM_ERR_BUDGET: return "memory budget too small";
    case SM_ERR_CAPACITY: return "capacity exceeded";
    case SM_ERR_STATE: return "invalid state";
    case SM_ERR_MISMATCH: return "state does not match this model";
    case SM_ERR_CANCELLED: return "cancelled";
    case SM_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
