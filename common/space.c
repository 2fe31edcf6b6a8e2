#include "space.h"
