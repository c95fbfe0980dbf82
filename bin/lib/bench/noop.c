/* The floor of a process start for the helper benchmark: a static C program that does nothing. */
int main(void) { return 0; }
