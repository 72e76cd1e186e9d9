// Teach mode: the character learns what the player types (/teach TEXT) while it keeps
// talking. A LoRA trainer on the frozen model, planned at start-up in the same arena,
// fine-tunes the adapter the character's session applies, a bounded slice per frame;
// the adapter changes only when an optimizer step ends. A lesson is a fixed number of
// steps on the taught text (repeated to fill training sequences, a quarter held out to
// measure the loss on it before and after).
#pragma once
#include "smallmind/smallmind.h"

#include <cstddef>
#include <cstdint>
#include <vector>

struct TeachStatus {
    bool ready = false;                    // a trainer exists (teach mode available)
    bool active = false;                   // a lesson is running
    int lessons = 0;                       // finished
    int step = 0, steps = 0;               // of the current (or last) lesson
    float loss_before = 0, loss_after = 0; // held-out loss on the taught text, before / after the lesson
    float train_loss = 0;                  // the last step's training loss
    float slice_us = 0;                    // time of the last frame's trainer slice
    float slice_max_us = 0;                // over the current lesson
};

class Teacher {
public:
    static constexpr int kRank = 8, kBatch = 2, kSeq = 32, kStepsPerLesson = 40;
    static constexpr size_t kTextCap = 4096; // bytes of repeated lesson text

    // The trainer desc every teacher uses (ModelHost sizes the arena with it).
    static sm_trainer_desc desc();
    // Arena bytes the lesson data takes at most, beyond sm_trainer_memory_required.
    static size_t data_bytes() { return (kTextCap + 2) * 8 + 4096; }

    // Creates the trainer (from `from`, an adapter to continue, or fresh) and applies its
    // adapter to `session`. false with sm_last_error set on failure.
    bool init(sm_model *model, sm_session *session, sm_adapter *from);
    ~Teacher();

    // Starts a lesson on `text`; false (sm_last_error says why) when it cannot.
    bool teach(const char *text, size_t len);
    // Runs the current lesson for about budget_us; true when the lesson ended in this call.
    bool step(uint32_t budget_us);
    sm_status save(const char *path) const;
    const TeachStatus &status() const { return st_; }

private:
    sm_model *model_ = nullptr;
    sm_trainer *trainer_ = nullptr;
    sm_adapter *adapter_ = nullptr;
    std::vector<char> text_; // sized once in init()
    TeachStatus st_;
    int64_t first_step_ = 0; // trainer step count when the lesson began
};
