/* pw_demangle: C++ through the C++ runtime, Rust (legacy and v0) through
 * libiberty; plain C names and damaged symbols are left alone (NULL). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"

static int failures;

static void expect(const char *mangled, const char *want)
{
    char *got = pw_demangle(mangled);
    bool ok = want ? got && strcmp(got, want) == 0 : got == NULL;
    if (!ok) {
        printf("FAIL %s: got %s, want %s\n", mangled, got ? got : "NULL", want ? want : "NULL");
        failures++;
    }
    free(got);
}

int main(void)
{
    /* Rust v0, as rustc 1.95's std is built */
    expect("_RNvMNtNtNtNtNtCsjrHSEGnQ3l9_3std3sys3net10connection6socket4unixNtB2_6Socket15"
           "recv_with_flags",
           "<std::sys::net::connection::socket::unix::Socket>::recv_with_flags");
    /* v0 generic instantiated in the user's crate (rustc 1.63 -C symbol-mangling-version=v0) */
    expect("_RINvMs_NtNtCsdyIG5SqMl5y_3std4sync7condvarNtB5_7Condvar4waitbECs1YDQuSXGT83_2rs",
           "<std::sync::condvar::Condvar>::wait::<bool>");
    expect("_RNvCs1YDQuSXGT83_2rs13wait_for_flag", "rs::wait_for_flag");
    /* Rust legacy: the hash goes, the escapes are read */
    expect("_ZN3std3sys4unix5futex10futex_wait17hef1e4b99f76e0b4fE",
           "std::sys::unix::futex::futex_wait");
    expect("_ZN104_$LT$core..iter..sources..from_fn..FromFn$LT$F$GT$$u20$as$u20$core..iter.."
           "traits..iterator..Iterator$GT$4next17h5029af7e7bac568fE",
           "<core::iter::sources::from_fn::FromFn<F> as core::iter::traits::iterator::Iterator>"
           "::next");
    /* C++ stays C++ */
    expect("_ZN4pool6Worker3runEv", "pool::Worker::run()");
    expect("_ZNSt6thread4joinEv", "std::thread::join()");
    /* not mangled, or damaged */
    expect("main", NULL);
    expect("_start", NULL);
    expect("_RNvC", NULL);
    expect("_ZN3std", NULL);
    expect(NULL, NULL);
    if (failures)
        return 1;
    printf("ok\n");
    return 0;
}
