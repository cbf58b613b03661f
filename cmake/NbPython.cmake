# The Python module `nbparity` (tools/python): ON requires pybind11 and the
# Python 3 development files (Debian: pybind11-dev, python3-dev), OFF never
# builds it, AUTO builds it when both are found. Sets NB_WITH_PYTHON.
set(NB_PYTHON AUTO CACHE STRING "Build the Python module nbparity: AUTO (when pybind11 and Python 3 are found), ON or OFF")
set_property(CACHE NB_PYTHON PROPERTY STRINGS AUTO ON OFF)
set(NB_WITH_PYTHON OFF)
if(NB_PYTHON)
  # Debian's interpreter is the one pybind11-dev, python3-numpy and
  # python3-pytest belong to; a pyenv or venv python earlier on PATH lacks
  # them. -DPython3_EXECUTABLE=... picks another.
  if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python interpreter the nbparity module is built for")
  endif()
  if(NB_PYTHON STREQUAL "ON")
    find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)
    find_package(pybind11 CONFIG REQUIRED)
  else()
    find_package(Python3 QUIET COMPONENTS Interpreter Development.Module)
    if(Python3_FOUND)
      find_package(pybind11 CONFIG QUIET)
    endif()
  endif()
  if(Python3_FOUND AND pybind11_FOUND)
    set(NB_WITH_PYTHON ON)
  endif()
endif()
if(NB_WITH_PYTHON)
  # The libraries are static and linked into a shared extension module.
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  set(NB_PYTHON_SITEARCH "lib/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/site-packages"
      CACHE STRING "Where cmake --install puts the nbparity package (relative to the prefix, or absolute)")
  message(STATUS "nbparity Python module: ON (${Python3_EXECUTABLE}, Python ${Python3_VERSION}, pybind11 ${pybind11_VERSION})")
elseif(NB_PYTHON)
  message(STATUS "nbparity Python module: skipped (pybind11 or the Python 3 development files not found: apt-get install pybind11-dev python3-dev); its tests are not registered")
else()
  message(STATUS "nbparity Python module: OFF (NB_PYTHON=OFF); its tests are not registered")
endif()
