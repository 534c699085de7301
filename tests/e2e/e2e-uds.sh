#!/bin/bash
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# End-to-end test of the uds backend with a real Linux guest (UML):
# see e2e_socket_scenario in e2e-lib.sh for the checks.
#
#   VDC_DAEMON=build/san/vhost-device-console bash tests/e2e/e2e-uds.sh
#
# Exit status 0 pass, 77 skip (no UML guest possible here), 1 fail.

set -u
# shellcheck source-path=SCRIPTDIR source=e2e-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/e2e-lib.sh"

e2e_init uds
e2e_socket_scenario uds
