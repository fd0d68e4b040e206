// Checks of offered PEM material before it reaches the Collector: the Collector's `validate`
// does not read TLS files, and a certificate it cannot load stops it at start ("failed to
// load TLS config"), so the module refuses such an offer instead. Messages never quote the
// material.
#pragma once

#include <string>
#include <string_view>

namespace opsup::connection_settings {

// Why `pem` is not one or more PEM certificates; "" when it is.
std::string certificates_problem(std::string_view pem);

// Why `cert_pem` (a certificate, possibly followed by its chain) and `key_pem` (a PEM
// private key) are not a certificate and its key; "" when they are.
std::string key_pair_problem(std::string_view cert_pem, std::string_view key_pem);

}  // namespace opsup::connection_settings
