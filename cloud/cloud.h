/*
 * cloud.h: the platforms' APIs, one header per concern:
 *
 *   cloud/sign.h     request signatures and encodings (pure functions)
 *   cloud/http.h     outgoing HTTP: settings, libcurl options, retry policy
 *   cloud/tencent.h  the Tencent VOD API client and its parsers
 *   cloud/alibaba.h  the Alibaba VOD API client and its parsers
 *
 * Including this header includes all four. Every exported name starts with
 * cloud_ (CLOUD_ for macros); names private to the folder are in
 * cloud_int.h with the cloud__ prefix.
 */
#ifndef VODHOOK_CLOUD_H
#define VODHOOK_CLOUD_H

#include "cloud/alibaba.h"
#include "cloud/http.h"
#include "cloud/sign.h"
#include "cloud/tencent.h"

#endif
