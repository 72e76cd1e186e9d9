#include "teacher.h"

#include <chrono>
#include <cstring>

sm_trainer_desc Teacher::desc() {
    sm_trainer_desc d = sm_trainer_desc_default();
    d.mode = SM_TRAIN_LORA;
    d.lora_rank = kRank;
    d.batch = kBatch;
    d.seq_len = kSeq;
    d.lr = 1e-2f;
    d.lr_min = 1e-2f; // lessons come one after another: no schedule to end
    d.warmup_steps = 0;
    d.weight_decay = 0.0f;
    d.total_steps = 1 << 30;
    return d;
}

bool Teacher::init(sm_model *model, sm_session *session, sm_adapter *from) {
    model_ = model;
    text_.resize(kTextCap);
    sm_trainer_desc d = desc();
    d.lora_from = from;
    if (sm_trainer_create(model, &d, &trainer_) != SM_OK) return false;
    if (sm_trainer_get_adapter(trainer_, &adapter_) != SM_OK) return false;
    if (sm_session_set_adapters(session, &adapter_, nullptr, 1) != SM_OK) return false;
    st_.ready = true;
    return true;
}

Teacher::~Teacher() { sm_trainer_destroy(trainer_); }

bool Teacher::teach(const char *text, size_t len) {
    if (!trainer_ || len == 0) return false;
    // The lesson text, line after line, until the sequences (3 of 4 trained on, 1 held
    // out) have enough of it: a short sentence becomes several training sequences.
    size_t n = 0;
    while (n + len + 1 <= kTextCap && n < 8 * static_cast<size_t>(kSeq) * kBatch) {
        memcpy(text_.data() + n, text, len);
        n += len;
        text_[n++] = '\n';
    }
    if (n == 0) { // longer than the buffer: its first kTextCap bytes
        memcpy(text_.data(), text, kTextCap);
        n = kTextCap;
    }
    if (sm_trainer_set_text(trainer_, text_.data(), n, 0.25f) != SM_OK) return false;
    if (sm_trainer_eval(trainer_, 0, &st_.loss_before) != SM_OK) return false;
    st_.active = true;
    st_.step = 0;
    st_.steps = kStepsPerLesson;
    st_.loss_after = st_.loss_before;
    st_.slice_max_us = 0;
    first_step_ = -1;
    return true;
}

bool Teacher::step(uint32_t budget_us) {
    st_.slice_us = 0;
    if (!st_.active) return false;
    const auto t0 = std::chrono::steady_clock::now();
    sm_train_result r{};
    const sm_status s = sm_trainer_step(trainer_, budget_us, &r);
    st_.slice_us = std::chrono::duration<float, std::micro>(std::chrono::steady_clock::now() - t0).count();
    st_.slice_max_us = st_.slice_us > st_.slice_max_us ? st_.slice_us : st_.slice_max_us;
    if (s != SM_OK) {
        st_.active = false;
        return true;
    }
    if (first_step_ < 0) first_step_ = r.step - (r.step_done ? 1 : 0);
    if (!r.step_done) return false;
    st_.step = static_cast<int>(r.step - first_step_);
    st_.train_loss = r.loss;
    if (st_.step < st_.steps) return false;
    sm_trainer_eval(trainer_, 0, &st_.loss_after);
    st_.active = false;
    st_.lessons++;
    return true;
}

sm_status Teacher::save(const char *path) const { return adapter_ ? sm_adapter_save(adapter_, path, nullptr) : SM_ERR_STATE; }
