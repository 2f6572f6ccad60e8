#include "common/program_options_error.h"

#include <algorithm>
#include <map>

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

}  // namespace journey
