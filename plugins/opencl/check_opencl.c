#include <build-config.h>
int main(void) { return 77; }
