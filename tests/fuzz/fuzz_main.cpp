// Without libFuzzer (every configuration but `fuzz`), a fuzz target becomes a replayer:
// each argument is a file or a folder of files fed once to LLVMFuzzerTestOneInput, after
// LLVMFuzzerInitialize when the target defines one (as libFuzzer calls it).
#ifndef SM_LIBFUZZER
#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const std::string &path) {
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) return 1;
    std::vector<uint8_t> buf;
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf.insert(buf.end(), chunk, chunk + n);
    fclose(f);
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
    return 0;
}

int main(int argc, char **argv) {
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    int files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { // a missing seed is a broken checkout, not an empty corpus
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            if (DIR *d = opendir(argv[i])) {
                while (dirent *e = readdir(d))
                    if (e->d_name[0] != '.' && run_file(std::string(argv[i]) + "/" + e->d_name) == 0) files++;
                closedir(d);
            }
        } else if (run_file(argv[i]) == 0) {
            files++;
        }
    }
    printf("replayed %d inputs\n", files);
    return 0;
}
#endif
