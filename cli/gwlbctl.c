#include <stdio.h>
int main(void) { fprintf(stderr, "gwlbctl: not yet\n"); return 2; }
