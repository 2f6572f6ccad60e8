#include "common/program_options_error.h"

#include <algorithm>
#include <map>
#include <vector>

#include "common/closest_name.h"

namespace journey {

std::string program_options_error_text(boost::program_options::error& e) {
  namespace po = boost::program_options;
  // The substitutions are protected; a derived class may name them.
  struct Substitutions : po::error_with_option_name {
    static std::map<std::string, std::string>& of(po::error_with_option_name& error) {
      return error.*(&Substitutions::m_substitutions);
    }
  };
  if (auto* named = dynamic_cast<po::error_with_option_name*>(&e)) {
    for (auto& [name, text] : Substitutions::of(*named)) {
      std::replace(text.begin(), text.end(), '%', '?');
    }
  }
  return e.what();
}

std::string did_you_mean_option(const std::string& typed,
                                const boost::program_options::options_description& options,
                                const std::string& dashes) {
  std::string name = typed.substr(0, typed.find('='));
  name.erase(0, name.find_first_not_of('-'));
  std::vector<std::string> names;
  for (const auto& option : options.options()) names.push_back(option->long_name());
  const std::string closest = closest_name(name, names);
  return closest.empty() ? std::string() : " (did you mean '" + dashes + closest + "'?)";
}

}  // namespace journey
