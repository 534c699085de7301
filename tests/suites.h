/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/* suites.h - every Check suite the test runner knows. */
#ifndef VDC_TEST_SUITES_H
#define VDC_TEST_SUITES_H

#include <check.h>

Suite *options_suite(void);
Suite *process_suite(void);
Suite *vhost_user_suite(void);
Suite *bad_input_suite(void);
Suite *console_suite(void);
Suite *reliability_suite(void);
Suite *ports_suite(void);
Suite *watchers_suite(void);
Suite *log_file_suite(void);
Suite *web_suite(void);
Suite *console_size_suite(void);
Suite *console_log_suite(void);
Suite *console_log_uid_suite(void);
Suite *nested_suite(void);
Suite *install_suite(void);
Suite *e2e_suite(void);
Suite *web_token_suite(void);
Suite *web_conn_suite(void);
Suite *sha256_suite(void);
Suite *web_guess_suite(void);
Suite *web_ticket_suite(void);
Suite *web_origin_suite(void);
Suite *web_room_suite(void);
Suite *status_suite(void);
Suite *systemd_suite(void);
Suite *access_suite(void);

#endif
