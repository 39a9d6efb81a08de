/* placeholder: being written */
#include "config.h"
#include "pkt.h"
