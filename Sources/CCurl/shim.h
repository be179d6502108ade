#ifndef COMMUNESYNC_CCURL_SHIM_H
#define COMMUNESYNC_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, and Swift cannot call variadic C
   functions. One typed, non-variadic wrapper per argument type the project uses. */

static inline CURLcode communesync_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode communesync_curl_setopt_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode communesync_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*communesync_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode communesync_curl_setopt_callback(CURL *handle, CURLoption option,
                                                        communesync_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode communesync_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode communesync_curl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
