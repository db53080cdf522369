/*
 * app.c: the application a call is about. One account may hold several
 * applications (Tencent sub-applications, SubAppId; Alibaba applications,
 * AppId); each media belongs to one, and every call about a media must
 * name it: a FileId or VideoId asked of another application is unknown
 * there. The settings name the default; an upload may name another, which
 * its upload and media records keep (uploads.app_id, media.app_id).
 *
 * The calls take the application from struct cloud_opts, so a call about
 * one media gets a copy of the options with that media's application.
 *
 * Sources: SubAppId is a uint64 of every VOD API 3.0 request
 * (tencentcloud-sdk-go, tencentcloud/vod/v20180717/models.go, e.g.
 * ApplyUploadRequestParams.SubAppId; "mandatory for customers who
 * activated VOD on/after 2023-12-25"), refused with
 * InvalidParameterValue.SubAppId. AppId is a string such as
 * "app-1000000", the default application's
 * (https://www.alibabacloud.com/help/en/vod/api-createuploadvideo, and
 * https://www.alibabacloud.com/help/en/vod/user-guide/multi-application-service).
 *
 * Interface: cloud_tencent_subapp_check, cloud_tencent_opts_for_subapp,
 * cloud_alibaba_app_check, cloud_alibaba_opts_for_app.
 */
#include "cloud/cloud.h"

#include <string.h>

int
cloud_tencent_subapp_check(const char *s, struct err *e)
{
	size_t n = s != NULL ? strlen(s) : 0;
	uint64_t v = 0;

	if (n == 0 || n > 20 || strspn(s, "0123456789") != n)
		return err_set(e, ERR_INPUT,
			       "sub_app_id must be a decimal SubAppId");
	for (size_t i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return err_set(e, ERR_INPUT,
				       "sub_app_id is larger than a uint64");
		v = v * 10 + d;
	}
	if (v == 0)
		return err_set(e, ERR_INPUT,
			       "sub_app_id must be a SubAppId, not 0");
	return 0;
}

void
cloud_tencent_opts_for_subapp(const struct cloud_opts *o,
			      const char *sub_app_id, struct cloud_opts *out)
{
	*out = *o;
	if (sub_app_id != NULL && sub_app_id[0] != '\0')
		out->tencent_subapp_id = sub_app_id;
}

int
cloud_alibaba_app_check(const char *s, struct err *e)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n < 5 || n > CLOUD_APP_ID_MAX || strncmp(s, "app-", 4) != 0 ||
	    strspn(s + 4, "0123456789") != n - 4)
		return err_set(e, ERR_INPUT,
			       "app_id must be an AppId: \"app-\" and digits, "
			       "such as app-1000000");
	return 0;
}

void
cloud_alibaba_opts_for_app(const struct cloud_opts *o, const char *app_id,
			   struct cloud_opts *out)
{
	*out = *o;
	if (app_id != NULL && app_id[0] != '\0')
		out->alibaba_app_id = app_id;
}
