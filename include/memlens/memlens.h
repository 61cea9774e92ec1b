/* memlens: one header that includes the whole public API. */
#ifndef MEMLENS_MEMLENS_H
#define MEMLENS_MEMLENS_H

#include <memlens/common.h>
#include <memlens/proc.h>
#include <memlens/maps.h>
#include <memlens/source.h>

#endif
#include <memlens/freeze.h>
#include <memlens/capture.h>
