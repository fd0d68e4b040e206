/* A valid shared library that is not a module: no entry symbol at all. */
int no_entry_answer(void);
int no_entry_answer(void) {
  return 42;
}
