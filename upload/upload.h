/*
 * upload.h: upload jobs, the transfer engine and the platform adapters.
 */
#ifndef VODHOOK_UPLOAD_H
#define VODHOOK_UPLOAD_H

#include "common/common.h"

#endif
