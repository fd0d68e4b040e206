// The files of web/ (HTML templates, CSS, JavaScript), embedded at build time.
#pragma once

#include <optional>
#include <string_view>

namespace opsup::opamp_server {

// By file name ("index.html", "agent.html", "app.js", "style.css").
std::optional<std::string_view> web_asset(std::string_view name);

}  // namespace opsup::opamp_server
