// RAII ownership of HDF5 identifiers, and the bridge from HDF5's error stack to DataError.
//
// Internal to io/ (and its tests and benchmarks): the public checkpoint headers keep HDF5 out
// of their users' include paths.
//
// Every hid_t the io layer obtains lives in a Handle whose destructor closes it with the
// matching H5*close function, so an exception anywhere closes everything opened so far.
// Never wrap predefined ids (H5T_NATIVE_FLOAT, H5P_DEFAULT...): they must not be closed.
//
// HDF5 reports a failure by a negative return value and, by default, prints its whole error
// stack to stderr. silence_error_printing() turns that printing off for the calling thread
// (Debian's libhdf5 is built thread-safe, which keeps one error stack per thread), and check()
// turns a failure into a DataError whose sentence names the file, the object inside it, what
// was being done and HDF5's own description of the cause.
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

namespace journey::h5 {

template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      close();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { close(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

  // Closes now. Returns HDF5's status: closing a file flushes it, so that can fail, and the
  // caller that cares (a commit) checks it; the destructor cannot report and ignores it.
  herr_t close() {
    herr_t status = id_ >= 0 ? Close(id_) : 0;
    id_ = H5I_INVALID_HID;
    return status;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using PropList = Handle<H5Pclose>;
using Attribute = Handle<H5Aclose>;
using Datatype = Handle<H5Tclose>;

// Stops HDF5 printing its error stack on this thread. Cheap after the first call per thread;
// every entry point of the io layer calls it.
void silence_error_printing();

// HDF5's description of the current thread's error stack (innermost cause first), then
// clears the stack. Empty when HDF5 recorded nothing.
std::string take_error_text();

// Throws DataError: "<file>[, <object>]: cannot <action> (HDF5: <cause>)". `object` names
// the thing inside the file, e.g. "dataset 'params/layers.0.attn.wq'", and may be empty.
[[noreturn]] void fail(const std::string& file, const std::string& object,
                       const std::string& action);

// Returns `id` when it is valid, otherwise fail()s.
inline hid_t check(hid_t id, const std::string& file, const std::string& object,
                   const std::string& action) {
  if (id < 0) fail(file, object, action);
  return id;
}

// Status overload (herr_t and htri_t): returns `status` when it is not negative.
inline herr_t check(herr_t status, const std::string& file, const std::string& object,
                    const std::string& action) {
  if (status < 0) fail(file, object, action);
  return status;
}

}  // namespace journey::h5
