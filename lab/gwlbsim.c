#include <stdio.h>
int main(void) { fprintf(stderr, "gwlbsim: not yet\n"); return 2; }
