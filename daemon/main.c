#include <stdio.h>
int main(void) { fprintf(stderr, "gwlbtund: not yet\n"); return 2; }
