<?php
// Packagist oracle: Composer's own rules from Debian's php-composer-semver.
// Both versions are normalised with VersionParser::normalize (as Composer
// does for installed packages and constraints), then ordered with
// Comparator. A version normalize() rejects is invalid. See
// oracle_common.py for the protocol.
require '/usr/share/php/Composer/Semver/autoload.php';

use Composer\Semver\Comparator;
use Composer\Semver\VersionParser;

$parser = new VersionParser();

function norm($parser, $v) {
    try {
        return $parser->normalize($v);
    } catch (UnexpectedValueException $e) {
        return null;
    }
}

function cmp3($parser, $a, $b) {
    $x = norm($parser, $a);
    $y = norm($parser, $b);
    if (Comparator::lessThan($x, $y)) {
        return -1;
    }
    if (Comparator::equalTo($x, $y)) {
        return 0;
    }
    return 1;
}

$mode = $argv[1];
$lines = explode("\n", rtrim(stream_get_contents(STDIN), "\n"));
if ($mode === 'sort') {
    $good = [];
    foreach ($lines as $v) {
        if (norm($parser, $v) === null || str_starts_with(norm($parser, $v), 'dev-')) {
            echo "!\t$v\n";
        } else {
            $good[] = $v;
        }
    }
    usort($good, fn ($a, $b) => cmp3($parser, $a, $b));
    foreach ($good as $v) {
        echo "$v\n";
    }
} elseif ($mode === 'cmp') {
    foreach ($lines as $l) {
        [$a, $b] = explode("\t", $l, 2);
        echo "<=>"[cmp3($parser, $a, $b) + 1], "\n";
    }
} else {
    fwrite(STDERR, "unknown mode $mode\n");
    exit(2);
}
