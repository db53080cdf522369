/*
 * worker.c: upload job workers.
 */
#include "upload/upload.h"
