/*
 * fuzz.h — the one entry point every fuzz target defines, as libFuzzer
 * calls it. Built with clang and HP_FUZZ=ON, libFuzzer drives it (`make
 * fuzz`); otherwise driver.c runs it over the files of a corpus, which is
 * how every input that ever crashed a decoder stays a regression test.
 */
#ifndef HP_FUZZ_H
#define HP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* hp_fuzz_memfile writes data into an anonymous in-memory file and returns
 * its fd, with *path set to a name the path-based loaders can open
 * (/proc/self/fd/N). Aborts if the kernel refuses: a fuzz run without
 * memfds cannot run at all. */
int hp_fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t pathlen);

#endif
