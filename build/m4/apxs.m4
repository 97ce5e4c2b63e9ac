dnl MI_CHECK_APXS: locate apxs (--with-apxs, else apxs/apxs2 on the PATH)
dnl and take from it the httpd and APR/APR-util compile and link flags,
dnl plus the module directory (overridable with --with-moddir).
AC_DEFUN([MI_CHECK_APXS], [
    AC_ARG_WITH([apxs],
        [AS_HELP_STRING([--with-apxs=PATH], [path to httpd's apxs])],
        [APXS="$withval"], [APXS=""])
    AS_IF([test -z "$APXS" -o "x$APXS" = xyes],
        [AC_PATH_PROGS([APXS], [apxs apxs2], [], [$PATH:/usr/bin:/usr/sbin:/usr/local/apache2/bin])])
    AS_IF([test -z "$APXS" -o ! -x "$APXS"],
        [AC_MSG_ERROR([apxs not found: install apache2-dev or pass --with-apxs=PATH])])
    HTTPD_INCLUDEDIR=`$APXS -q INCLUDEDIR`
    HTTPD_CPPFLAGS="-I$HTTPD_INCLUDEDIR `$APXS -q EXTRA_CPPFLAGS`"
    HTTPD_CFLAGS="`$APXS -q EXTRA_CFLAGS`"
    APR_CONFIG=`$APXS -q APR_CONFIG`
    APU_CONFIG=`$APXS -q APU_CONFIG`
    AS_IF([test -z "$APR_CONFIG"], [APR_CONFIG=`$APXS -q APR_BINDIR`/apr-1-config])
    AS_IF([test -z "$APU_CONFIG"], [APU_CONFIG=`$APXS -q APU_BINDIR`/apu-1-config])
    APR_CPPFLAGS="`$APR_CONFIG --includes` `$APR_CONFIG --cppflags` `$APU_CONFIG --includes`"
    APR_CFLAGS="`$APR_CONFIG --cflags`"
    APR_LIBS="`$APU_CONFIG --link-ld` `$APR_CONFIG --link-ld`"
    AC_ARG_WITH([moddir],
        [AS_HELP_STRING([--with-moddir=DIR], [where to install mod_integration.so (default: apxs -q LIBEXECDIR)])],
        [MODDIR="$withval"], [MODDIR=`$APXS -q LIBEXECDIR`])
    HTTPD_BIN="`$APXS -q SBINDIR`/`$APXS -q TARGET`"
    AC_SUBST([APXS])
    AC_SUBST([HTTPD_CPPFLAGS])
    AC_SUBST([HTTPD_CFLAGS])
    AC_SUBST([APR_CPPFLAGS])
    AC_SUBST([APR_CFLAGS])
    AC_SUBST([APR_LIBS])
    AC_SUBST([MODDIR])
    AC_SUBST([HTTPD_BIN])
])
