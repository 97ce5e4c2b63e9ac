package MI::Schema;
# A small JSON Schema checker for the subset docs/openapi.json uses: $ref,
# allOf, anyOf, type (with "null"), properties, required,
# additionalProperties, items, enum, minimum, maximum, minLength,
# maxLength, maxItems, pattern. Returns a list of problems ("" is fine).
use strict;
use warnings FATAL => 'all';
use Scalar::Util qw(looks_like_number);
use JSON::PP ();

sub new { my ($class, $doc) = @_; bless { doc => $doc }, $class }

sub resolve {
    my ($self, $ref) = @_;
    $ref =~ s{^#/}{} or die "only local refs: $ref";
    my $node = $self->{doc};
    $node = $node->{$_} for split m{/}, $ref;
    return $node;
}

sub type_of {
    my ($v) = @_;
    return 'null' unless defined $v;
    return 'boolean' if JSON::PP::is_bool($v);
    return 'object' if ref $v eq 'HASH';
    return 'array' if ref $v eq 'ARRAY';
    # JSON::PP numbers have no quotes when written back; strings do.
    my $json = JSON::PP->new->allow_nonref->encode($v);
    return $json =~ /^"/ ? 'string' : ($json =~ /^-?\d+$/ ? 'integer' : 'number');
}

sub check {
    my ($self, $schema, $v, $at) = @_;
    $at //= '$';
    $schema = $self->resolve($schema->{'$ref'}) if $schema->{'$ref'};
    my @p;
    if (my $all = $schema->{allOf}) {
        push @p, $self->check($_, $v, $at) for @$all;
    }
    if (my $any = $schema->{anyOf}) {
        push @p, "$at matches none of anyOf"
            unless grep { !$self->check($_, $v, $at) } @$any;
    }
    if (my $t = $schema->{type}) {
        my @types = ref $t ? @$t : ($t);
        my $have = type_of($v);
        my $okay = grep { $_ eq $have || ($_ eq 'number' && $have eq 'integer') }
                   @types;
        return ("$at is $have, not @types") unless $okay;
    }
    if ($schema->{enum}) {
        push @p, "$at: " . (defined $v ? $v : 'null') . " not in enum"
            unless grep { (defined $_ ? $_ : "\0null") eq (defined $v ? "$v" : "\0null") }
                   @{ $schema->{enum} };
    }
    return @p unless defined $v;
    if (ref $v eq 'HASH') {
        for my $k (@{ $schema->{required} || [] }) {
            push @p, "$at.$k is required" unless exists $v->{$k};
        }
        my $props = $schema->{properties} || {};
        for my $k (sort keys %$v) {
            if ($props->{$k}) {
                push @p, $self->check($props->{$k}, $v->{$k}, "$at.$k");
            }
            elsif (defined $schema->{additionalProperties}
                   && !ref $schema->{additionalProperties}
                   && !$schema->{additionalProperties}) {
                push @p, "$at.$k is not allowed";
            }
        }
    }
    elsif (ref $v eq 'ARRAY') {
        push @p, "$at has too many items"
            if defined $schema->{maxItems} && @$v > $schema->{maxItems};
        if ($schema->{items}) {
            push @p, $self->check($schema->{items}, $v->[$_], "$at\[$_]")
                for 0 .. $#$v;
        }
    }
    elsif (!JSON::PP::is_bool($v)) {
        if (looks_like_number($v) && type_of($v) ne 'string') {
            push @p, "$at below minimum"
                if defined $schema->{minimum} && $v < $schema->{minimum};
            push @p, "$at above maximum"
                if defined $schema->{maximum} && $v > $schema->{maximum};
        }
        else {
            push @p, "$at too short"
                if defined $schema->{minLength} && length $v < $schema->{minLength};
            push @p, "$at too long"
                if defined $schema->{maxLength} && length $v > $schema->{maxLength};
            push @p, "$at does not match $schema->{pattern}"
                if defined $schema->{pattern} && $v !~ /$schema->{pattern}/;
        }
    }
    return @p;
}

# The schema of a documented response: path template, method, status.
sub response_schema {
    my ($self, $path, $method, $status) = @_;
    my $op = $self->{doc}{paths}{$path}{lc $method} or return;
    my $r = $op->{responses}{$status} or return;
    $r = $self->resolve($r->{'$ref'}) if $r->{'$ref'};
    return $r->{content}{'application/json'}{schema};
}

1;
