#include "agent_page.hpp"

#include <boost/json/serialize.hpp>

#include <cstdio>

#include "web_page.hpp"

namespace opsup::opamp_server {

namespace json = boost::json;

namespace {

const json::value &member(const json::value &value, std::string_view key) {
  static const json::value kNull;
  if (!value.is_object())
    return kNull;
  const json::value *found = value.as_object().if_contains(key);
  return found ? *found : kNull;
}

// Strings as they are, anything else as JSON text; escaped.
std::string text(const json::value &value) {
  if (value.is_string())
    return html_escape(value.as_string());
  if (value.is_null())
    return "";
  return html_escape(json::serialize(value));
}

std::string muted(std::string_view message) {
  return "<p class=\"muted\">" + std::string(message) + "</p>";
}

std::string attributes_table(const json::value &attributes) {
  if (!attributes.is_object() || attributes.as_object().empty())
    return muted("none");
  std::string html = "<table>";
  for (const auto &[key, value] : attributes.as_object())
    html += "<tr><th>" + html_escape(key) + "</th><td>" + text(value) + "</td></tr>";
  return html + "</table>";
}

std::string health_tree(std::string_view name, const json::value &health) {
  const bool healthy = member(health, "healthy") == json::value(true);
  std::string html = std::string("<li><span class=\"") + (healthy ? "ok\">●" : "bad\">○") +
                     "</span> <strong>" + html_escape(name) + "</strong> " +
                     text(member(health, "status"));
  const auto &error = member(health, "last_error");
  if (error.is_string() && !error.as_string().empty())
    html += "<span class=\"error\"> " + text(error) + "</span>";
  const auto &components = member(health, "components");
  if (components.is_object() && !components.as_object().empty()) {
    html += "<ul class=\"tree\">";
    for (const auto &[child, child_health] : components.as_object())
      html += health_tree(child, child_health);
    html += "</ul>";
  }
  return html + "</li>";
}

std::string status_line(const json::value &view) {
  const auto &connection = member(view, "connection");
  const bool connected = member(connection, "connected") == json::value(true);
  std::string line = std::string(connected ? "connected" : "disconnected") + " over " +
                     text(member(connection, "transport")) + " from " +
                     text(member(connection, "peer")) + " · last seen " +
                     text(member(view, "last_seen")) + " · seq " +
                     text(member(view, "sequence_num")) + " · " +
                     text(member(view, "message_count")) + " messages";
  if (member(connection, "disconnect_seen") == json::value(true))
    line += " · agent_disconnect received";
  const auto &certificate = member(connection, "client_certificate");
  line += certificate.is_object()
              ? " · client certificate " + text(member(certificate, "subject")) + ", serial " +
                    text(member(certificate, "serial")) + ", valid until " +
                    text(member(certificate, "not_after"))
              : std::string(" · no client certificate");
  return line;
}

std::string description(const json::value &view) {
  const auto &reported = member(view, "description");
  if (reported.is_null())
    return muted("not reported");
  return "<h3>Identifying</h3>" + attributes_table(member(reported, "identifying_attributes")) +
         "<h3>Non-identifying</h3>" +
         attributes_table(member(reported, "non_identifying_attributes"));
}

std::string capabilities(const json::value &view) {
  const auto &reported = member(view, "capabilities");
  const auto &value = member(reported, "value");
  char hex[32] = "0";
  if (value.is_number())
    std::snprintf(hex, sizeof hex, "%llx",
                  static_cast<unsigned long long>(value.to_number<uint64_t>()));
  std::string html = "<p><code>0x" + std::string(hex) + "</code> </p>";
  const auto &names = member(reported, "names");
  if (names.is_array()) {
    for (const auto &name : names.as_array())
      html += "<span class=\"pill\">" + text(name) + "</span>";
  }
  return html;
}

std::string health(const json::value &view) {
  const auto &reported = member(view, "health");
  if (reported.is_null())
    return muted("not reported");
  return "<ul class=\"tree\">" + health_tree("agent", reported) + "</ul>";
}

std::string config_files(const json::value &files) {
  if (!files.is_object() || files.as_object().empty())
    return muted("not reported");
  std::string html;
  for (const auto &[name, file] : files.as_object()) {
    html += "<h3>" + (name.empty() ? std::string("(single file)") : html_escape(name)) + "</h3>";
    const auto &body = member(file, "body");
    html += "<pre>" +
            (body.is_string() ? text(body)
                              : "(binary, " + text(member(file, "size_bytes")) + " bytes)") +
            "</pre>";
  }
  return html;
}

std::string custom(const json::value &view) {
  std::string html = "<p>";
  const auto &names = member(view, "custom_capabilities");
  if (names.is_array()) {
    for (const auto &name : names.as_array())
      html += "<span class=\"pill\">" + text(name) + "</span>";
  }
  html += "</p><table>";
  const auto &messages = member(view, "custom_messages");
  if (messages.is_array()) {
    const auto &list = messages.as_array();
    for (std::size_t i = list.size() > 10 ? list.size() - 10 : 0; i < list.size(); ++i) {
      const auto &message = list[i];
      const auto &data = member(message, "data");
      html += "<tr><td>" + text(member(message, "time")) + "</td><td>" +
              text(member(message, "capability")) + "</td><td>" + text(member(message, "type")) +
              "</td><td>" + text(data.is_string() ? data : member(message, "data_base64")) +
              "</td></tr>";
    }
  }
  return html + "</table>";
}

std::string config_file_row(std::string_view name, const json::value &file) {
  const auto &body = member(file, "body");
  std::string content_type = text(member(file, "content_type"));
  std::string html = "<fieldset class=\"config-file\" data-content-type=\"" +
                     (content_type.empty() ? std::string("text/yaml") : content_type) + "\"";
  std::string textarea_attributes;
  std::string textarea_text;
  if (!body.is_string() && !member(file, "body_base64").is_null()) {
    // Binary: kept as it is when pushed again, not editable here.
    html += " data-body-base64=\"" + text(member(file, "body_base64")) + "\"";
    textarea_attributes = " readonly";
    textarea_text = "(binary, " + text(member(file, "size_bytes")) + " bytes: pushed unchanged)";
  } else {
    textarea_text = text(body);
  }
  return html + "><label>File name <input class=\"config-file-name\" value=\"" + html_escape(name) +
         "\" placeholder=\"(empty: single file)\"></label><label>Content <textarea "
         "class=\"config-file-body\" rows=\"8\" spellcheck=\"false\"" +
         // HTML drops one newline right after <textarea>: this one, not the config's.
         textarea_attributes + ">\n" + textarea_text +
         "</textarea></label><button type=\"button\" class=\"remove-config-file\">Remove "
         "file</button></fieldset>\n";
}

std::string config_file_rows(const json::value &view) {
  const auto &files = member(member(view, "remote_config"), "files");
  if (!files.is_object() || files.as_object().empty())
    return config_file_row("", json::object{{"content_type", "text/yaml"}, {"body", ""}});
  std::string rows;
  for (const auto &[name, file] : files.as_object())
    rows += config_file_row(name, file);
  return rows;
}

}  // namespace

std::map<std::string, std::string> render_agent_sections(const json::object &object) {
  const json::value view(object);
  const auto &remote_status = member(view, "remote_config_status");
  const auto &settings_status = member(view, "connection_settings_status");
  std::string settings_text = "none";
  if (!settings_status.is_null()) {
    settings_text = text(member(settings_status, "status"));
    const auto &error = member(settings_status, "error_message");
    if (error.is_string() && !error.as_string().empty())
      settings_text += ": " + text(error);
  }
  return {
      {"STATUS_LINE", status_line(view)},
      {"DESCRIPTION", description(view)},
      {"CAPABILITIES", capabilities(view)},
      {"HEALTH", health(view)},
      {"REMOTE_CONFIG_STATUS",
       remote_status.is_null() ? std::string("none") : text(member(remote_status, "status"))},
      {"REMOTE_CONFIG_ERROR", text(member(remote_status, "error_message"))},
      {"REMOTE_CONFIG_HASH", text(member(remote_status, "last_remote_config_hash"))},
      {"REMOTE_CONFIG_DESIRED_HASH", text(member(member(view, "remote_config"), "hash"))},
      {"EFFECTIVE_CONFIG", config_files(member(member(view, "effective_config"), "files"))},
      {"CONNECTION_SETTINGS_STATUS", settings_text},
      {"CUSTOM", custom(view)},
      {"CONFIG_FILE_ROWS", config_file_rows(view)},
  };
}

}  // namespace opsup::opamp_server
