// Internal error reporting: a status code plus a formatted message, no heap, no
// exceptions. Every fallible internal function takes an Error& and returns sm_status;
// the C API copies the message into the runtime's last-error buffer.
#pragma once
#include "smallmind/smallmind.h"

namespace sm {

struct Error {
    sm_status code = SM_OK;
    char message[512] = {0};

    // Records the first error only: the root cause is more useful than its echoes.
    sm_status set(sm_status c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
    // Prefixes the existing message with context ("blk.3.attn_q.weight: ...").
    sm_status wrap(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    void clear() {
        code = SM_OK;
        message[0] = 0;
    }
    bool ok() const { return code == SM_OK; }
};

#define SM_TRY(expr)                                        \
    do {                                                    \
        sm_status sm_try_status_ = (expr);                  \
        if (sm_try_status_ != SM_OK) return sm_try_status_; \
    } while (0)

} // namespace sm
