# RubyGems oracle: Gem::Version from Debian's ruby. See oracle_common.py
# for the protocol.
mode = ARGV.fetch(0)
lines = $stdin.read.split("\n")
case mode
when "sort"
  good, bad = lines.partition { |v| Gem::Version.correct?(v) && !v.strip.empty? }
  bad.each { |v| puts "!\t#{v}" }
  good.sort { |a, b| Gem::Version.new(a) <=> Gem::Version.new(b) }.each { |v| puts v }
when "cmp"
  lines.each do |l|
    a, b = l.split("\t", 2)
    puts "<=>"[(Gem::Version.new(a) <=> Gem::Version.new(b)) + 1]
  end
else
  abort "unknown mode #{mode}"
end
