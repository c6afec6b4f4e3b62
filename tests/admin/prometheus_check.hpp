#pragma once

// A strict little parser of the Prometheus text exposition format 0.0.4 for
// the tests: it rejects what Prometheus would reject and returns the
// samples, so tests can also read values.

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace zaki::test {

/// The samples of one scrape: "name{labels}" -> value.
struct scrape {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::string error;

  /// Returns the value of `key` (name plus label text), or -1.
  double value(const std::string& key) const {
    auto i = samples.find(key);
    return i == samples.end() ? -1 : i->second;
  }
};

inline bool valid_metric_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':')
      return false;
  return true;
}

/// Returns the family a sample name belongs to (strips histogram suffixes
/// when the family is a declared histogram).
inline std::string family_of(const scrape& s, const std::string& name) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string sfx = suffix;
    if (name.size() > sfx.size()
        && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
      auto base = name.substr(0, name.size() - sfx.size());
      auto i = s.types.find(base);
      if (i != s.types.end() && i->second == "histogram")
        return base;
    }
  }
  return name;
}

/// Parses `text`; `error` names the first offending line.
inline scrape parse_prometheus(const std::string& text) {
  scrape s;
  std::set<std::string> seen_samples;
  std::istringstream in{text};
  std::string line;
  size_t lineno = 0;
  auto fail = [&](const std::string& why) {
    s.error = "line " + std::to_string(lineno) + ": " + why + ": " + line;
  };
  if (!text.empty() && text.back() != '\n') {
    s.error = "the text must end with a newline";
    return s;
  }
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty())
      continue;
    if (line[0] == '#') {
      std::istringstream words{line};
      std::string hash, kind, name, type;
      words >> hash >> kind >> name;
      if (kind == "TYPE") {
        words >> type;
        if (!valid_metric_name(name))
          return fail("bad name"), s;
        if (type != "counter" && type != "gauge" && type != "histogram"
            && type != "summary" && type != "untyped")
          return fail("bad type"), s;
        if (s.types.count(name))
          return fail("TYPE twice"), s;
        s.types[name] = type;
      } else if (kind == "HELP") {
        if (!valid_metric_name(name))
          return fail("bad name"), s;
      }
      continue;
    }
    // name{label="value",...} value
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      ++i;
    auto name = line.substr(0, i);
    if (!valid_metric_name(name))
      return fail("bad sample name"), s;
    std::string key = name;
    if (i < line.size() && line[i] == '{') {
      auto close = std::string::npos;
      bool quoted = false;
      for (size_t j = i + 1; j < line.size(); ++j) {
        if (quoted && line[j] == '\\') {
          ++j;
          continue;
        }
        if (line[j] == '"')
          quoted = !quoted;
        else if (!quoted && line[j] == '}') {
          close = j;
          break;
        }
      }
      if (close == std::string::npos)
        return fail("unterminated labels"), s;
      key = line.substr(0, close + 1);
      i = close + 1;
    }
    if (i >= line.size() || line[i] != ' ')
      return fail("missing value"), s;
    auto value_text = line.substr(i + 1);
    double value = 0;
    if (value_text == "+Inf")
      value = INFINITY;
    else if (value_text == "-Inf")
      value = -INFINITY;
    else if (value_text == "NaN")
      value = NAN;
    else {
      char* end = nullptr;
      value = std::strtod(value_text.c_str(), &end);
      if (end == value_text.c_str() || *end != '\0')
        return fail("bad value"), s;
    }
    if (!s.types.count(family_of(s, name)))
      return fail("sample without TYPE"), s;
    if (!seen_samples.insert(key).second)
      return fail("duplicate sample"), s;
    s.samples[key] = value;
  }
  return s;
}

} // namespace zaki::test
