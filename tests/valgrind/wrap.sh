#!/bin/sh
# Exe wrapper of the 'valgrind' test setup (meson test -C build --setup valgrind):
# memcheck on the analyzer.  A compiled test runs under memcheck directly; a
# script test (python, sh) runs as usual with PW_VALGRIND set, and the tests'
# helper (tests/e2e/pwtest.py) puts memcheck in front of every `parkwatch`
# command it runs.  The traced programs themselves are not run under valgrind
# (valgrind does not follow exec by default): it is the analyzer that is
# checked.  Any invalid access, use of uninitialised memory or definite leak
# makes the command exit 99.
PW_VALGRIND="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
export PW_VALGRIND
case "$1" in
*python* | *.py | */sh | */bash | *.sh) exec "$@" ;;
esac
exec $PW_VALGRIND "$@"
