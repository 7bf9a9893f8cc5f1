# twin/apps: the app spec's JSON and the records file; a pod and a client as processes on loopback (SIGTERM,
# records, control file); the neighbour lookup in a private network namespace (root only, skipped otherwise).
if(TARGET metalgate_twin_apps)
  metalgate_test(twin_apps_test twin/app_spec_test.cc twin/app_process_test.cc)
  target_link_libraries(twin_apps_test PRIVATE metalgate_twin_apps)
endif()
