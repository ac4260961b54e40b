"""Project templates for ``proofstream project new NAME --template T``.

Each sub-package is one template (tracker_distance, weather_quality, uptime): a project folder whose files are
copied into the new project, except the ``__init__.py`` files that make them packages here.
"""
