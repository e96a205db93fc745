/* A library that does nothing: stands in for the shim in `run` tests, so the
 * CLI's process handling is tested independently of the real recorder. */
int pw_noop_marker;
