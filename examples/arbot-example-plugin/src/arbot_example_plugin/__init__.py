"""An example third-party ArBot plugin: a detector and a risk rule."""
