/* memlens: one header that includes the whole public API. */
#ifndef MEMLENS_MEMLENS_H
#define MEMLENS_MEMLENS_H

#include <memlens/common.h>
#include <memlens/proc.h>
#include <memlens/maps.h>
#include <memlens/source.h>
#include <memlens/idle.h>
#include <memlens/wss.h>

#endif
