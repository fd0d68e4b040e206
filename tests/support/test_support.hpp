// Everything in tests/support, for tests that want one include.
#pragma once

#include "support/child_process.hpp"
#include "support/collector.hpp"
#include "support/eventually.hpp"
#include "support/http.hpp"
#include "support/opamp_test_server.hpp"
#include "support/paths.hpp"
#include "support/ports.hpp"
#include "support/temp_dir.hpp"
