// Typed wrappers for libcurl's variadic functions.
//
// curl_easy_setopt and curl_easy_getinfo take their argument through C
// varargs, which Swift cannot call. Each wrapper fixes one argument type, so
// Swift passes exactly what curl reads with va_arg for that option.
#ifndef TIG_CCURLSHIM_H
#define TIG_CCURLSHIM_H

#include <curl/curl.h>
#include <stddef.h>

typedef size_t (*tig_curl_data_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*tig_curl_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow,
                                          curl_off_t ultotal, curl_off_t ulnow);

// Options taking a `long` (timeouts, booleans, enums).
CURLcode tig_curl_setopt_long(CURL *handle, CURLoption option, long value);
// Options taking a `char *` (URL, method, file paths, request body); curl copies strings.
CURLcode tig_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
// Options taking an opaque pointer: header lists and callback contexts.
CURLcode tig_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
// CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION.
CURLcode tig_curl_setopt_data_callback(CURL *handle, CURLoption option, tig_curl_data_callback callback);
// CURLOPT_XFERINFOFUNCTION: lets a caller abort a transfer (a watch stream) by returning non-zero.
CURLcode tig_curl_setopt_progress_callback(CURL *handle, tig_curl_progress_callback callback);
// Options taking a `struct curl_blob *` (in-memory CA, client certificate and key); curl copies the bytes.
CURLcode tig_curl_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length);

CURLcode tig_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
