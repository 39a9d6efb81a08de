/* The daemon's shared run-time state (state.h). */
#include "config.h"

#include "state.h"

struct daemon_state D;
